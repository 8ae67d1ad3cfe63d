"""FXO loop start: analog lines to a central office (state machine, caller ID, tones)."""
