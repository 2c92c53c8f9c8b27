import os
import pickle
import socket


def serve():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 9000))
    s.listen()
    conn, _ = s.accept()
    data = conn.recv(4096)
    obj = pickle.loads(data)  # expect: PY-DESER
    os.system(data.decode())  # expect: PY-CMDI
    return obj
