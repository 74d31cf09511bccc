"""`python -m grader ...` is the `grade` command, run by this interpreter whatever PATH says."""

from grader.cli import main

if __name__ == "__main__":
    main()
