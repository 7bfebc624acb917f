# tests/vm/wire-plans/common.sh: what the plans share (sourced by a plan).
# shellcheck shell=bash

# two_paths NQN [HOST-OPTION-LINES]: the inventory of one target ("target")
# with one subsystem NQN on a null_blk disk, listening on rdma (192.0.2.1,
# the cable of rdma0) and tcp (198.51.100.1, the cable of tcp0), and one
# initiator ("host1") that connects every port of it: two paths, one head.
two_paths() {
	cat >"$WIRE_DIR/nvmfd.yaml" <<YAML
targets:
  - name: target
    null_blk: {nr_devices: 1, gb: 1}
    subsystems:
      - nqn: $1
        allowed_hosts: [host1]
        namespaces: [{nsid: 1, device_path: /dev/nullb0}]
    ports:
      - {id: 1, transport: rdma, traddr: 192.0.2.1, trsvcid: 4420}
      - {id: 2, transport: tcp, traddr: 198.51.100.1, trsvcid: 4420}
hosts:
  - name: host1
    hostnqn: $(wire_hostnqn host1)
    hostid: $(wire_hostid host1)
    modules: [nvme-rdma, nvme-tcp]
    backoff: {initial: 500ms, max: 2s}
    # The kernel retries a lost controller every reconnect_delay (1 s here):
    # a target's return is seen within that.
${2:-    reconnect_delay: 1s}
    connect:
      - target: target
YAML
}

# two_cables: the target's and host1's rdma0 and tcp0, each pair on a cable.
two_cables() {
	wire_cable target:rdma0=192.0.2.1/24 host1:rdma0=192.0.2.11/24
	wire_cable target:tcp0=198.51.100.1/24 host1:tcp0=198.51.100.11/24
}
