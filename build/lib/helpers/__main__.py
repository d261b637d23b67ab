"""`python -m helpers COMMAND ...`: the command line lives in `helpers.course.cli`."""

from helpers.course.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
