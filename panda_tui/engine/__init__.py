"""The scheduler: what runs when, carried out by runners, recorded in the store."""
