module github.com/authgate/authgate

go 1.26
