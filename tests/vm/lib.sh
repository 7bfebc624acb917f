# tests/vm/lib.sh: shell library for lab scenarios, sourced inside the guest.
#
# Every scenario is a list of named steps. A step that goes wrong ends the
# scenario with "FAILED at step '<step>': <what went wrong>", so the message
# names the step. Addresses used here exist only inside the guest: the target
# side of the soft RDMA pair is 192.0.2.1, the host side 192.0.2.2 (TEST-NET-1,
# RFC 5737), and TCP ports listen on 127.0.0.1.
# shellcheck shell=bash

LAB_TARGET_ADDR=192.0.2.1
LAB_HOST_ADDR=192.0.2.2
LAB_TARGET_IF=nvmft0
LAB_HOST_IF=nvmfh0
LAB_STEP="start"
LAB_SCENARIO=${LAB_SCENARIO:-${LAB_SCRIPT_NAME:-scenario}}

# A command a scenario calls that does not exist is the scenario's own bug,
# and fails it (tests/vm/group reads the mark), also where it ran in $(...),
# whose empty output would otherwise compare equal to another.
LAB_MISSING_MARK=/tmp/lab-missing-command
command_not_found_handle() {
	printf "%s: at step '%s': no command '%s' (a bug of the scenario)\n" "$LAB_SCENARIO" "$LAB_STEP" "$1" >&2
	printf '%s\n' "$1" >>"$LAB_MISSING_MARK"
	return 127
}

lab_log() { printf '%s: %s\n' "$LAB_SCENARIO" "$*"; }

lab_step() {
	LAB_STEP=$*
	lab_log "step: $LAB_STEP"
}

lab_fail() {
	printf "%s: FAILED at step '%s': %s\n" "$LAB_SCENARIO" "$LAB_STEP" "$*" >&2
	exit 1
}

# lab_run CMD...: run CMD; on failure end the step with its status and output.
lab_run() {
	local out rc
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if ((rc != 0)); then
		lab_fail "'$*' exited $rc: $(printf '%s' "$out" | tail -n 5)"
	fi
	[[ -z $out ]] || printf '%s\n' "$out"
}

# lab_wait SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds.
lab_wait() {
	local secs=$1 what=$2
	shift 2
	local end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || lab_fail "timed out after ${secs}s waiting for $what"
		sleep 0.1
	done
}

# lab_not CMD...: CMD fails (for lab_wait).
lab_not() { ! "$@"; }

# lab_write PATH VALUE: a configfs or sysfs write that names the path and the
# kernel's error when it fails.
lab_write() {
	local err
	if ! err=$( { printf '%s' "$2" >"$1"; } 2>&1); then
		lab_fail "writing '$2' to $1: ${err##*: }"
	fi
}

lab_modprobe() {
	local m
	for m in "$@"; do
		modprobe "$m" 2>/dev/null || lab_fail "module $m does not load: $(modprobe "$m" 2>&1)"
	done
}

lab_udevd_start() {
	/lib/systemd/systemd-udevd --daemon || lab_fail "systemd-udevd does not start"
	udevadm trigger --action=add >/dev/null 2>&1
	udevadm settle -t 30 || lab_fail "udev does not settle"
}

# lab_host_identity: a consistent /etc/nvme/hostnqn and /etc/nvme/hostid, as an
# admin keeps them (the guest's DMI UUID is all zeros, so `nvme gen-hostnqn`
# would not do; 6.12 refuses one hostid under two host NQNs).
lab_host_identity() {
	local id
	id=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p /etc/nvme
	echo "$id" >/etc/nvme/hostid
	echo "nqn.2014-08.org.nvmexpress:uuid:$id" >/etc/nvme/hostnqn
}

# lab_kernel_reason: the kernel's last NVMe message, which carries the reason
# a fabrics connect failed (nvme-cli reports only the errno).
lab_kernel_reason() {
	dmesg | grep -E 'nvme|nvmet' | tail -n 1 | sed -E 's/^\[ *[0-9.]+\] //'
}

# lab_nullblk NR GB: null_blk disks /dev/nullb0.. of GB GiB each.
lab_nullblk() {
	lab_modprobe configfs
	if lsmod | grep -q '^null_blk '; then
		rmmod null_blk 2>/dev/null || lab_fail "null_blk is loaded already and in use (a scenario before did not clean up)"
	fi
	modprobe null_blk nr_devices="$1" gb="$2" || lab_fail "null_blk nr_devices=$1 gb=$2 does not load"
	lab_wait 10 "/dev/nullb0" test -b /dev/nullb0
	local size
	size=$(blockdev --getsize64 /dev/nullb0)
	((size == $2 * 1024 * 1024 * 1024)) || lab_fail "/dev/nullb0 is $size bytes, not $2 GiB"
}

# lab_soft_rdma rxe|siw: a veth pair with the target's and the host's
# addresses and a soft RDMA device on each end (rxe: soft-RoCE, siw:
# soft-iWARP). Sets LAB_RDMA_DEVS.
lab_soft_rdma() {
	local kind=$1
	case $kind in
	rxe) lab_modprobe rdma_rxe ;;
	siw)
		[[ -r ${LAB_SIW_KO:-} ]] || lab_fail "siw.ko not built ($LAB_SIW_KO): run tests/vm/build-siw"
		if ! lsmod | grep -q '^siw '; then
			lab_modprobe ib_core libcrc32c
			insmod "$LAB_SIW_KO" 2>/dev/null || lab_fail "insmod $LAB_SIW_KO: $(insmod "$LAB_SIW_KO" 2>&1)"
		fi
		;;
	*) lab_fail "unknown soft RDMA kind '$kind' (rxe or siw)" ;;
	esac
	lab_modprobe veth
	ip link add "$LAB_TARGET_IF" type veth peer name "$LAB_HOST_IF" || lab_fail "cannot create the veth pair"
	ip addr add "$LAB_TARGET_ADDR/24" dev "$LAB_TARGET_IF"
	ip addr add "$LAB_HOST_ADDR/24" dev "$LAB_HOST_IF"
	ip link set "$LAB_TARGET_IF" up
	ip link set "$LAB_HOST_IF" up
	lab_run rdma link add "${kind}0" type "$kind" netdev "$LAB_TARGET_IF" >/dev/null
	lab_run rdma link add "${kind}1" type "$kind" netdev "$LAB_HOST_IF" >/dev/null
	LAB_RDMA_DEVS="${kind}0 ${kind}1"
	local d
	for d in $LAB_RDMA_DEVS; do
		lab_wait 10 "$d port ACTIVE" sh -c "rdma link show $d/1 | grep -q 'state ACTIVE'"
	done
}

lab_soft_rdma_remove() {
	local d
	for d in ${LAB_RDMA_DEVS:-}; do
		rdma link delete "$d" 2>/dev/null
	done
	ip link del "$LAB_TARGET_IF" 2>/dev/null
	LAB_RDMA_DEVS=
}

# lab_since T0: seconds (3 decimals) since T0, a `date +%s.%N`.
# lab_below T LIMIT: whether T < LIMIT (fractions allowed).
lab_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
lab_below() { awk -v t="$1" -v l="$2" 'BEGIN { exit !(t < l) }'; }

# lab_ns_readable SUBSYSNQN: a 4 KiB direct read of that subsystem's
# namespace 1 (its multipath head) succeeds. Polled often, so no subshells
# (each costs much under TCG).
lab_ns_readable() {
	local s n d
	for s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[[ -r $s/subsysnqn ]] && read -r n <"$s/subsysnqn" || continue
		[[ $n == "$1" ]] || continue
		for d in "$s"/nvme*n1; do
			[[ -e $d ]] && dd if="/dev/${d##*/}" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null && return 0
		done
	done
	return 1
}

# lab_ctrl_of SUBSYSNQN TRANSPORT: print the host controller (nvmeN) of that
# subsystem over that transport.
lab_ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[[ -r $c/subsysnqn ]] || continue
		[[ $(<"$c/subsysnqn") == "$1" && $(<"$c/transport") == "$2" ]] || continue
		basename "$c"
		return 0
	done
	return 1
}

# lab_ns_of CTRL NSID: print the namespace block device (nvmeXnY) that
# controller CTRL reaches nsid NSID through: the multipath head under the
# subsystem when the kernel has native multipath, else the controller's own.
lab_ns_of() {
	local nqn d
	nqn=$(<"/sys/class/nvme/$1/subsysnqn") || return 1
	for d in /sys/class/nvme/"$1"/nvme*n* /sys/class/nvme-subsystem/*/nvme*n*; do
		[[ $(basename "$d") =~ ^nvme[0-9]+n[0-9]+$ && -r $d/nsid ]] || continue
		[[ $(<"$d/nsid") == "$2" ]] || continue
		if [[ $d == /sys/class/nvme-subsystem/* ]]; then
			[[ $(<"$(dirname "$d")/subsysnqn") == "$nqn" ]] || continue
		fi
		basename "$d"
		return 0
	done
	return 1
}

# lab_fio NAME DEVICE FIO-ARGS...: run fio and print bandwidth, IOPS, mean and
# p99 latency on one line; the figures also go to $LAB_RESULTS/fio.tsv.
lab_fio() {
	local name=$1 dev=$2 out
	shift 2
	out=$(lab_fio_cmd "$name" "$dev" "$@" 2>&1) || lab_fail "fio $name on $dev: $out"
	lab_fio_report "$name" "$dev" "$out"
}

lab_fio_cmd() {
	local name=$1 dev=$2
	shift 2
	fio --name="$name" --filename="$dev" --rw=randread --ioengine=libaio --direct=1 \
		--invalidate=1 --randrepeat=1 --norandommap --time_based --group_reporting \
		--lat_percentiles=1 --output-format=terse --terse-version=3 "$@"
}

# lab_fio_start NAME DEVICE FIO-ARGS...: the same fio in the background, for
# I/O across a fault; lab_fio_end NAME DEVICE stops it (SIGINT: fio ends its
# jobs and reports) and reports as lab_fio does: an I/O error fails the step.
lab_fio_start() {
	local name=$1
	lab_fio_cmd "$@" >"/tmp/fio-$name.out" 2>&1 &
	LAB_FIO_PID=$!
}
lab_fio_end() {
	local name=$1 dev=$2 rc
	# fio is the child of the background shell: the signal goes to it.
	pkill -INT -P "$LAB_FIO_PID" -x fio 2>/dev/null
	wait "$LAB_FIO_PID"
	rc=$?
	# 0, or 128 when the signal ended it: its report tells the rest.
	((rc == 0 || rc == 128)) || lab_log "fio $name exited $rc: $(grep -v '^3;' "/tmp/fio-$name.out" | tail -n 3)"
	lab_fio_report "$name" "$dev" "$(cat "/tmp/fio-$name.out")"
}

# lab_fio_report NAME DEVICE OUTPUT: fio's terse line, said and kept.
lab_fio_report() {
	local name=$1 dev=$2 out=$3 line
	line=$(printf '%s\n' "$out" | grep '^3;' | tail -n 1)
	[[ -n $line ]] || lab_fail "fio $name printed no result: $out"
	local bw iops lat p99 err kib
	IFS=';' read -r -a f <<<"$line"
	err=${f[4]} kib=${f[5]} bw=${f[6]} iops=${f[7]} lat=${f[39]}
	p99=$(printf '%s\n' "${f[@]:17:20}" | sed -n 's/^99\.000000%=//p')
	((err == 0)) || lab_fail "fio $name on $dev reported error $err ($(grep -o 'err=.*' <<<"$out" | head -n 1))"
	# LAB_FIO_SLOW=1: a wire so lossy that the rate may round to 0 IOPS;
	# some I/O must still have been done.
	((iops > 0 || (${LAB_FIO_SLOW:-0} == 1 && kib > 0))) || lab_fail "fio $name on $dev did no I/O"
	printf '%s: fio %-28s %-10s %9.1f MiB/s %9d IOPS  lat mean %8.1f us  p99 %6d us\n' \
		"$LAB_SCENARIO" "$name" "$dev" "$(awk -v k="$bw" 'BEGIN { print k / 1024 }')" "$iops" "$lat" "$p99"
	if [[ -n ${LAB_RESULTS:-} ]]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$LAB_SCENARIO" "$name" "$dev" "$bw" "$iops" "$lat" "$p99" \
			>>"$LAB_RESULTS/fio.tsv"
	fi
}

# --- nvmfd ---------------------------------------------------------------

# lab_nvmfd_start INVENTORY [ARGS...]: run nvmfd in the background (log in
# /tmp/nvmfd.log); LAB_NVMFD_PID is its pid.
lab_nvmfd_start() {
	local inv=$1
	shift
	"$LAB_BUILD/nvmfd" -c "$inv" --foreground "$@" >>/tmp/nvmfd.log 2>&1 &
	LAB_NVMFD_PID=$!
	lab_wait 10 "nvmfd's control socket" test -S /run/nvmfd/nvmfd.sock
}

# lab_nvmfd_rules [remove]: this build's 69-nvmfd.rules where udev reads it,
# as make install puts it beside nvme-cli's 70-nvmf-autoconnect.rules. Without
# it, each AEN of nvmfd's discovery controllers reaches nvmfd only after udev
# has run nvme-cli's connect-all for it.
lab_nvmfd_rules() {
	local rules=/run/udev/rules.d/69-nvmfd.rules
	if [[ ${1:-} == remove ]]; then
		rm -f "$rules"
	else
		mkdir -p "${rules%/*}"
		sed "s|@SBINDIR@|$LAB_BUILD|g" "$LAB_REPO/udev/69-nvmfd.rules.in" >"$rules" || lab_fail "cannot write $rules"
	fi
	udevadm control --reload 2>/dev/null || true
}

lab_nvmfd_stop() {
	[[ -n ${LAB_NVMFD_PID:-} ]] || return 0
	kill "$LAB_NVMFD_PID" 2>/dev/null
	wait "$LAB_NVMFD_PID" 2>/dev/null
	LAB_NVMFD_PID=
}

# lab_status_field SUBSYSNQN TRANSPORT FIELD: a field of that I/O path in `nvmfctl status --json`.
lab_status_field() {
	"$LAB_BUILD/nvmfctl" status --json 2>/dev/null |
		jq -r --arg n "$1" --arg t "$2" --arg f "$3" \
			'.paths[] | select(.kind == "io" and .subsysnqn == $n and .transport == $t) | .[$f] | if type == "array" then join(",") else tostring end'
}

# lab_path_is SUBSYSNQN TRANSPORT STATE: the path is in STATE.
lab_path_is() {
	[[ $(lab_status_field "$1" "$2" state) == "$3" ]]
}

# lab_one_ctrl_per_path: exactly one controller for each identity in sysfs.
lab_one_ctrl_per_path() {
	local dup
	dup=$(for c in /sys/class/nvme/nvme*; do
		[[ -r $c/address ]] || continue
		# Not $(<file | sed): that reads nothing, and every address compared equal.
		echo "$(<"$c/transport") $(sed 's/,src_addr=[^,]*//' "$c/address") $(<"$c/subsysnqn") $(<"$c/hostnqn")"
	done | sort | uniq -d)
	[[ -z $dup ]] || lab_fail "more than one controller for: $dup"
}

# --- systemd boots (tests/vm/run --systemd) ------------------------------

# lab_install: `make install` of this build into the guest's root (the overlay).
lab_install() {
	local out
	out=$(make -C "$LAB_REPO" --no-print-directory BUILDDIR="$LAB_BUILD" PREFIX=/usr/local install 2>&1) ||
		lab_fail "make install: $out"
	systemctl daemon-reload 2>/dev/null || true
}

# lab_enable UNIT...: enable as an admin does ([Install] sections), and have
# the lab's boot target pull in what multi-user.target would.
lab_enable() {
	local u
	for u in "$@"; do
		systemctl enable "$u" >/dev/null 2>&1 || lab_fail "systemctl enable $u: $(systemctl enable "$u" 2>&1)"
		[[ -e /etc/systemd/system/multi-user.target.wants/$u ]] || lab_fail "enabling $u did not hook it to multi-user.target"
		ln -sf "/etc/systemd/system/multi-user.target.wants/$u" /etc/systemd/system/lab.target.wants/
	done
}

# --- guests on a wire (tests/vm/wire) --------------------------------------

# wire_mark MARK: tell the plan and the other guests that MARK happened.
# wire_wait MARK SECONDS: wait for a mark of the plan's or another guest's.
wire_mark() { date +%s.%N >"$LAB_WIRE/$1.tmp" && mv "$LAB_WIRE/$1.tmp" "$LAB_WIRE/$1"; }
wire_wait() {
	lab_wait "$2" "the mark '$1'" test -e "$LAB_WIRE/$1"
}

# Times taken from the events' own records rather than from polls (a status
# read costs about a second under TCG, a poll of a mark a tenth): seconds
# since the epoch, this guest's clock.
# lab_live_at SUBSYSNQN TRANSPORT: when nvmfd's journal last said that an I/O
# path of TRANSPORT to SUBSYSNQN went live (empty if it never did).
lab_live_at() {
	journalctl -u nvmfd -o short-unix --no-pager 2>/dev/null |
		awk -v p="]: $2 " -v n=" $1: " -v f=" $1 from " \
			'index($0, p) && (index($0, n) || index($0, f)) && index($0, " -> live (") { at = $1 } END { print at }'
}
# lab_link_watch NIC: NIC's link changes, as rtnetlink tells them, go with
# their time to /tmp/link-NIC.mon from now on (ip monitor, in the background).
lab_link_watch() {
	ip -ts -o monitor link >"/tmp/link-$1.mon" 2>&1 &
	LAB_LINK_WATCH=$!
}
# lab_carrier_at NIC: when NIC last got its carrier back (the last LOWER_UP
# after a change without it), from lab_link_watch's record; empty if never.
lab_carrier_at() {
	local ts
	ts=$(awk -v nic=" $1:" 'BEGIN { was = 1 } index($0, nic) { up = index($0, "LOWER_UP") > 0; if (up && !was) at = $1; was = up } END { print at }' \
		"/tmp/link-$1.mon" | tr -d '[]')
	[[ -z $ts ]] || date -d "$ts" +%s.%N
}
# lab_between A B: B - A in seconds (3 decimals).
lab_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# lab_wire_rxe: a soft-RoCE device on each wire NIC named rdma* (rxe_NIC).
lab_wire_rxe() {
	local nic
	lab_modprobe rdma_rxe
	for nic in $LAB_NICS; do
		nic=${nic%%=*}
		[[ $nic == rdma* ]] || continue
		lab_run rdma link add "rxe_$nic" type rxe netdev "$nic" >/dev/null
		# A cable pulled from the start (the plan "pair") leaves it down.
		lab_wait 10 "rxe_$nic port ACTIVE" sh -c "rdma link show rxe_$nic/1 | grep -q 'state ACTIVE' ||
			[ \"\$(cat /sys/class/net/$nic/carrier)\" = 0 ]"
	done
}

# lab_wire_initiator: the setup of an initiator on the wire: `make install`,
# the inventory from the wire's directory, rxe, nvmfd.service enabled (it
# picks its host entry by this guest's hostname).
lab_wire_initiator() {
	lab_install
	mkdir -p /etc/nvmfd
	cp "$LAB_WIRE/nvmfd.yaml" /etc/nvmfd/nvmfd.yaml || lab_fail "no inventory in $LAB_WIRE"
	lab_wire_rxe
	lab_enable nvmfd.service
}

# lab_nvmfd_live N: nvmfd's status line says N/N paths live.
lab_nvmfd_live() {
	[[ $(systemctl show -p StatusText --value nvmfd) == "$1/$1 paths live" ]]
}

# lab_netem ARGS|off: tc netem on every wire NIC of this guest (its egress),
# or none.
lab_netem() {
	local nic
	lab_modprobe sch_netem
	for nic in $LAB_NICS; do
		nic=${nic%%=*}
		if [[ $1 == off ]]; then
			tc qdisc del dev "$nic" root 2>/dev/null
		else
			# shellcheck disable=SC2086 # netem's arguments are words
			lab_run tc qdisc replace dev "$nic" root netem $1
		fi
	done
	lab_log "netem on $(echo $LAB_NICS | sed 's/=[^ ]*//g'): $1"
}

# lab_wire_netem ARGS|off: the same on both ends of every cable: here, and
# on the target, which applies it when asked (tests/vm/wire-guests/target).
lab_wire_netem() {
	lab_netem "$1"
	printf '%s\n' "$1" >"$LAB_WIRE/netem.request.tmp" && mv "$LAB_WIRE/netem.request.tmp" "$LAB_WIRE/netem.request"
	lab_wait 20 "the target's netem ($1)" sh -c "[ \"\$(cat '$LAB_WIRE/netem.applied' 2>/dev/null)\" = '$1' ]"
}
