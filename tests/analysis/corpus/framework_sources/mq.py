import os
import pickle

import pika


def callback(ch, method, properties, body):
    obj = pickle.loads(body)  # expect: PY-DESER
    os.system(body.decode())  # expect: PY-CMDI
    os.system("echo " + str(method.delivery_tag))
    return obj


def consume():
    conn = pika.BlockingConnection(pika.ConnectionParameters("localhost"))
    ch = conn.channel()
    ch.basic_consume(queue="q", on_message_callback=callback)
    ch.start_consuming()
