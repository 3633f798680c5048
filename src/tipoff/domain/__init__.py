"""Pure rules of tipoff: no I/O, no environment, no clock reads."""
