"""Stage 5: reporters turn models and findings into text, json, sarif or github annotations."""
