"""Stage 6: the command line. Thin: parse arguments, call the stages, pick a reporter, exit."""
