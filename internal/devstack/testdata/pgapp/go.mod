module pgapp

go 1.26
