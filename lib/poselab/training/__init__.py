"""Training: the loop and its configuration, the jobs a study asks for, the run cache keyed by declared code."""
