module github.com/devport/devport

go 1.26

require (
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/smallstep/truststore v0.13.0
)

require howett.net/plist v1.0.0 // indirect
