"""Browser consoles served by the HTTP side (static ES modules, CSS and HTML as package data)."""
