"""Reusable pieces for the project's simulation testbenches."""
