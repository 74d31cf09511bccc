"""What a check is and how it decides: constructors, judges, comparison, numerical gradients, diagnosis."""
