"""The program admin's area. It sees numbers over pairs, never what a pair wrote."""
