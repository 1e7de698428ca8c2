"""The shift-leader console: static files served at /console/leader (assist/server/leader/http.py)."""
