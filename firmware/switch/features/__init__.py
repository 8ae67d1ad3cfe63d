"""Phone features of the switch: forwarding, DND, one-number, ring groups, voicemail
with message waiting, BLF lamps, and the dialled feature codes (decision 0019)."""
