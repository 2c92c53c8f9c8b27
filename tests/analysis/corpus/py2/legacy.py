import os
import sys

print "starting"
try:
    os.system("echo " + sys.argv[1])  # expect: PY-CMDI
except Exception, e:
    print e
