# libFuzzer targets (issue #9), built with --enable-fuzzing.
