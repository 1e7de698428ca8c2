"""Script packs: the talking points, checklists, rules and forbidden phrases trainers edit.

`packs/<name>/` holds packs as data; `pack.py` loads and validates one into a `Pack`.
"""
