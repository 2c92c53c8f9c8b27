def a():
    return 1


def cmd_b():
    return 2
