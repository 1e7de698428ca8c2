"""The I/O shells: websocket server, HTTP app, store. Small, and only move data in and out."""
