"""`python -m custos` runs the CLI."""

from custos.cli.app import main

if __name__ == "__main__":
    main()
