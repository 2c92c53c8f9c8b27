import os
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item}")
def read_item(item, q=None):
    os.system("echo " + item)  # expect: PY-CMDI
    os.system("echo " + q)  # expect: PY-CMDI
    return {}
