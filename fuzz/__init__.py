"""Coverage-guided fuzzing (atheris) of every decoder that takes outside bytes; see docs/reliability.md."""
