module example.invalid/webapp

go 1.22
