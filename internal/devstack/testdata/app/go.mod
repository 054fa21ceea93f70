module devtestapp

go 1.26
