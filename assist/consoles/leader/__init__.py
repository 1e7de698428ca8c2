"""The shift-leader console: static files served at /console/leader (assist/server/leader_http.py)."""
