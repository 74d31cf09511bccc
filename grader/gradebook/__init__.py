"""The semester's record: every graded run, the course's late policy, and LMS exports."""
