"""The course: lessons (Markdown in courseware/content/), exercises, interview questions,
the incident story, config export and learners' progress."""
