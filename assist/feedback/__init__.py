"""Learning from the floor: agents' and shift leaders' corrections, kept as feedback items for trainers.

Pure core (no clock, no database, no sockets): the commands (`commands`), personal data masking
(`mask`), feedback items and their lifecycle (`items`), and the agreement chart's figures
(`agreement`). The shells are `assist.server.feedback.service`, `feedback_store` and `feedback_http`.
"""
