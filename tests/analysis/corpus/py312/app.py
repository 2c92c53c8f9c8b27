from flask import request

type Alias = list[int]


def first[T](items: list[T]) -> T:
    return items[0]


def view():
    d = {"k": request.args.get("k")}
    return eval(f"{d['k']}")  # expect: PY-CODEI
