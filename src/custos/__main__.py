"""`python -m custos` runs the CLI."""

from custos.cli.entry import main

if __name__ == "__main__":
    main()
