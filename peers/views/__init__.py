"""The browser UI, one module per group of screens; ``peers/urls.py`` routes them. Views are thin:
read input, call one form and one service, pick a template (or an htmx partial of it)."""
