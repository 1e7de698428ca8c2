"""ES modules both consoles import (served at /console/shared/): the DOM builder and the API client."""
