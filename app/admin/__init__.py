"""The program admin's area (app/admin/area.py is its guarded parent blueprint). It sees numbers
over pairs, never what a pair wrote, and holds no one's credential."""
