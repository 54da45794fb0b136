# Integration and end-to-end tests (shell tests run by automake).
