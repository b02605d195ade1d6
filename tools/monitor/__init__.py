"""The stack's monitoring, seen working on the local control plane (`tools/local-cluster.sh
monitor`): prometheus-operator, Prometheus and Alertmanager run on this machine as the pods the
stack deployed would run them, and the targets they find are real processes on loopback.

- `pods`: a pod of the cluster played by a local process: its container's args, its volumes
  written under a local folder as the kubelet would mount them.
- `outside_the_pod`: the few things Prometheus' generated config takes from being in a pod (the
  API server, the pod network), told to it explicitly.
- `pod_network`: the pod network of the played pods: an HTTP proxy on loopback that leads a pod's
  address to the process playing it.
- `stand_in_app`, `webhook_receiver`: a Spring Boot app's actuator and an alert receiver.
"""
