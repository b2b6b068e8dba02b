"""The grader's parts, by concern: units (what is graded and how one judge runs), build
(the grading build and compiling a submission), reports (what the grader writes).
tools/grade.py is its command line."""
