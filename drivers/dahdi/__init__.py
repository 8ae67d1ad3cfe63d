"""DAHDI-side drivers: ISDN PRI through libpri (R2 and FXO to come)."""
