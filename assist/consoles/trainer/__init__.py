"""The trainer console: edit, test and publish the script pack."""
