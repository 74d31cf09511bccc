"""What the grading says: each student's feedback, the class summary, Classroom payloads, progress."""
