"""Routing and escalation, the pure core: who is told what, and by when.

Nothing here awaits, reads the clock or touches a socket, file or database. Functions
take data and `now` and return data: rows to write (`assist.live.desk.Write`), notifications
(as outbox rows) and events for the leaders' consoles. `assist.server.routing.service`
carries them out.

    config.py      the routing file: deadlines, schedule, delivery (the plan's values by default)
    directory.py   contacts, duty roster, hot-lines, internal numbers
    plans.py       the plan's escalation chains, as steps with offsets
    escalation.py  the escalation state machine (open, fire due steps, ack, resolve, note, unresolved)
    faults.py      the System Fault Record Form
    records.py     agents' records validated against the pack's checklist
    report.py      the daily report and the holiday patrol reminder
    commands.py    the websocket commands of this feature
"""
