"""The participants' side of the program: what the admin sees, and asking the program for help."""
