"""Pure classification core: normalise, match keyword rules, decide categories, find forbidden phrases."""
