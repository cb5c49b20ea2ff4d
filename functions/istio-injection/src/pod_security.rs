//! What Pod Security admission would reject: the `baseline` and `restricted` checks run on a
//! pod template, each violation with the field path that causes it.
//!
//! Why here: `podSecurity.enforce` makes the API server reject every pod that fails its level,
//! and it does so when the pod is created, long after the labels were applied. On Kubeflow 1.10
//! about a third of the workloads in `kubeflow` (centraldashboard, katib-controller,
//! katib-db-manager, notebook-controller, training-operator, ...) lack what `restricted`
//! requires; labelling that namespace without a word would leave their ReplicaSets failing with
//! `violates PodSecurity`. The checks follow kubernetes/pod-security-admission `policy/`
//! (`check_*.go`, v1.25 and later), one function here per check there; only what a pod template
//! can carry (no `ephemeralContainers`, no user-namespace relaxations) is checked.

use serde_json::{Map, Value};

use kubeflow_common::k8s::FieldPath;

use crate::config::Level;

/// A field of a pod template that the level forbids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The offending field (or the field that must be added), from the workload's root.
    pub path: FieldPath,
    /// What the level requires there.
    pub requirement: String,
}

/// Capabilities `baseline` lets a container add (`check_capabilities_baseline.go`).
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
];

/// Sysctls `baseline` allows (`check_sysctls.go`, with the v1.27, v1.29 and v1.32 additions).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
];

/// SELinux types `baseline` allows (`check_seLinuxOptions.go`).
const SELINUX_TYPES: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

/// Volume sources `restricted` allows (`check_restrictedVolumes.go`).
const RESTRICTED_VOLUMES: &[&str] =
    &["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/// The violations of `level` in a pod template at `base` (`spec.template` of a Deployment...).
/// `privileged` has none.
pub fn violations(template: &Value, base: &FieldPath, level: Level) -> Vec<Violation> {
    let mut out = Vec::new();
    if level == Level::Privileged {
        return out;
    }
    let empty = Map::new();
    let spec = template.get("spec").and_then(Value::as_object).unwrap_or(&empty);
    let spec_path = base.key("spec");
    let pod_sc = spec.get("securityContext").and_then(Value::as_object).unwrap_or(&empty);
    let pod_sc_path = spec_path.key("securityContext");
    let mut bad = |path: FieldPath, requirement: &str| out.push(Violation { path, requirement: requirement.to_string() });
    let containers: Vec<(&Map<String, Value>, FieldPath)> = ["initContainers", "containers"]
        .into_iter()
        .flat_map(|list| {
            let path = spec_path.key(list);
            spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate().filter_map(move |(i, c)| {
                let c = c.as_object()?;
                Some((c, path.entry(c.get("name").and_then(Value::as_str), i)))
            })
        })
        .collect();
    let str_at = |m: &Map<String, Value>, keys: &[&str]| -> Option<String> {
        let mut v = m.get(keys[0])?;
        for k in &keys[1..] {
            v = v.get(k)?;
        }
        v.as_str().map(str::to_string)
    };

    // --- baseline ---
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec.get(field) == Some(&Value::Bool(true)) {
            bad(spec_path.key(field), "must be unset or false (check_hostNamespaces)");
        }
    }
    for (i, volume) in spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(v) = volume.as_object() else { continue };
        let path = spec_path.key("volumes").entry(v.get("name").and_then(Value::as_str), i);
        if v.contains_key("hostPath") {
            bad(path.key("hostPath"), "hostPath volumes are forbidden (check_hostPathVolumes)");
        } else if level == Level::Restricted {
            if let Some(kind) = v.keys().find(|k| *k != "name" && !RESTRICTED_VOLUMES.contains(&k.as_str())) {
                bad(path.key(kind), "restricted allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes (check_restrictedVolumes)");
            }
        }
    }
    for (i, sysctl) in pod_sc.get("sysctls").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let name = sysctl.get("name").and_then(Value::as_str).unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name) {
            bad(pod_sc_path.key("sysctls").entry(Some(name), i), "only the safe sysctls are allowed (check_sysctls)");
        }
    }
    if let Some(annotations) = template.pointer("/metadata/annotations").and_then(Value::as_object) {
        for (key, value) in annotations {
            let value = value.as_str().unwrap_or_default();
            if key.starts_with("container.apparmor.security.beta.kubernetes.io/") && !value.is_empty() && value != "runtime/default" && !value.starts_with("localhost/") {
                bad(base.key("metadata").key("annotations").key(key), "AppArmor must be runtime/default or localhost/* (check_appArmorProfile)");
            }
        }
    }
    let mut security_contexts: Vec<(&Map<String, Value>, FieldPath)> = vec![(pod_sc, pod_sc_path.clone())];
    security_contexts.extend(containers.iter().map(|(c, p)| (c.get("securityContext").and_then(Value::as_object).unwrap_or(&empty), p.key("securityContext"))));
    for (sc, path) in &security_contexts {
        if str_at(sc, &["appArmorProfile", "type"]).as_deref() == Some("Unconfined") {
            bad(path.key("appArmorProfile").key("type"), "must not be Unconfined (check_appArmorProfile)");
        }
        if let Some(se) = sc.get("seLinuxOptions").and_then(Value::as_object) {
            if !SELINUX_TYPES.contains(&se.get("type").and_then(Value::as_str).unwrap_or_default()) {
                bad(path.key("seLinuxOptions").key("type"), "must be unset or container_t, container_init_t, container_kvm_t, container_engine_t (check_seLinuxOptions)");
            }
            for field in ["user", "role"] {
                if se.get(field).and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
                    bad(path.key("seLinuxOptions").key(field), "must be unset (check_seLinuxOptions)");
                }
            }
        }
        if str_at(sc, &["seccompProfile", "type"]).as_deref() == Some("Unconfined") {
            bad(path.key("seccompProfile").key("type"), "must not be Unconfined (check_seccompProfile_baseline)");
        }
        if sc.get("windowsOptions").and_then(|w| w.get("hostProcess")) == Some(&Value::Bool(true)) {
            bad(path.key("windowsOptions").key("hostProcess"), "must be unset or false (check_windowsHostProcess)");
        }
        if level == Level::Restricted && sc.get("runAsUser").and_then(Value::as_i64) == Some(0) {
            bad(path.key("runAsUser"), "must not be 0 (check_runAsUser)");
        }
    }
    for (c, path) in &containers {
        let sc = c.get("securityContext").and_then(Value::as_object).unwrap_or(&empty);
        let sc_path = path.key("securityContext");
        if sc.get("privileged") == Some(&Value::Bool(true)) {
            bad(sc_path.key("privileged"), "must be unset or false (check_privileged)");
        }
        if sc.get("procMount").and_then(Value::as_str).is_some_and(|m| m != "Default") {
            bad(sc_path.key("procMount"), "must be unset or Default (check_procMount)");
        }
        for (i, port) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if port.get("hostPort").and_then(Value::as_i64).is_some_and(|p| p != 0) {
                bad(path.key("ports").entry(port.get("name").and_then(Value::as_str), i).key("hostPort"), "must be unset or 0 (check_hostPorts)");
            }
        }
        let added: Vec<&str> = sc.get("capabilities").and_then(|c| c.get("add")).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let allowed: &[&str] = if level == Level::Restricted { &["NET_BIND_SERVICE"] } else { BASELINE_CAPABILITIES };
        let beyond: Vec<&str> = added.iter().copied().filter(|a| !allowed.contains(a)).collect();
        if !beyond.is_empty() {
            let rule = if level == Level::Restricted { "only NET_BIND_SERVICE may be added (check_capabilities_restricted)" } else { "only the baseline capabilities may be added (check_capabilities_baseline)" };
            bad(sc_path.key("capabilities").key("add"), &format!("{rule}, not {}", beyond.join(", ")));
        }
        if level != Level::Restricted {
            continue;
        }
        // --- restricted, per container ---
        if sc.get("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
            bad(sc_path.key("allowPrivilegeEscalation"), "must be false (check_allowPrivilegeEscalation)");
        }
        let drops_all = sc.get("capabilities").and_then(|c| c.get("drop")).and_then(Value::as_array).into_iter().flatten().any(|d| d.as_str() == Some("ALL"));
        if !drops_all {
            bad(sc_path.key("capabilities").key("drop"), "must include ALL (check_capabilities_restricted)");
        }
        // runAsNonRoot and seccompProfile: the container's value, else the pod's.
        match (sc.get("runAsNonRoot"), pod_sc.get("runAsNonRoot")) {
            (Some(Value::Bool(true)), _) => {}
            (Some(_), _) => bad(sc_path.key("runAsNonRoot"), "must be true (check_runAsNonRoot)"),
            (None, Some(Value::Bool(true))) => {}
            (None, _) => bad(sc_path.key("runAsNonRoot"), "must be true here or in the pod's securityContext (check_runAsNonRoot)"),
        }
        let seccomp = |m: &Map<String, Value>| str_at(m, &["seccompProfile", "type"]);
        match seccomp(sc).or_else(|| seccomp(pod_sc)).as_deref() {
            Some("RuntimeDefault" | "Localhost") => {}
            Some(_) => {} // Unconfined: reported by the baseline check above.
            None => bad(sc_path.key("seccompProfile").key("type"), "must be RuntimeDefault or Localhost here or in the pod's securityContext (check_seccompProfile_restricted)"),
        }
    }
    if level == Level::Restricted && pod_sc.get("runAsNonRoot") == Some(&Value::Bool(false)) {
        bad(pod_sc_path.key("runAsNonRoot"), "must be unset or true (check_runAsNonRoot)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(template: Value, level: Level) -> Vec<String> {
        violations(&template, &FieldPath::from_keys(&["spec", "template"]), level).iter().map(|v| v.path.to_string()).collect()
    }

    fn hardened() -> Value {
        json!({"spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "x"}}]
        }})
    }

    #[test]
    fn a_hardened_template_passes_restricted() {
        assert_eq!(paths(hardened(), Level::Restricted), Vec::<String>::new());
    }

    #[test]
    fn a_bare_container_fails_restricted_on_each_missing_field_but_passes_baseline() {
        let t = json!({"spec": {"containers": [{"name": "app", "image": "x"}]}});
        assert_eq!(paths(t.clone(), Level::Baseline), Vec::<String>::new());
        let c = "spec.template.spec.containers[name=app].securityContext";
        assert_eq!(
            paths(t, Level::Restricted),
            [format!("{c}.allowPrivilegeEscalation"), format!("{c}.capabilities.drop"), format!("{c}.runAsNonRoot"), format!("{c}.seccompProfile.type")]
        );
    }

    #[test]
    fn baseline_catches_host_access_and_privilege() {
        let t = json!({"spec": {
            "hostNetwork": true,
            "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
            "initContainers": [{"name": "init", "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}}}],
            "containers": [{"name": "app", "ports": [{"containerPort": 80, "hostPort": 8080}]}],
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}]
        }});
        let s = "spec.template.spec";
        assert_eq!(
            paths(t, Level::Baseline),
            [
                format!("{s}.hostNetwork"),
                format!("{s}.volumes[name=root].hostPath"),
                format!("{s}.securityContext.sysctls[name=kernel.msgmax]"),
                format!("{s}.initContainers[name=init].securityContext.privileged"),
                format!("{s}.initContainers[name=init].securityContext.capabilities.add"),
                format!("{s}.containers[name=app].ports[0].hostPort"),
            ]
        );
    }

    #[test]
    fn restricted_specifics() {
        let mut t = hardened();
        t["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
        t["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
        t["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["NET_BIND_SERVICE", "CHOWN"]);
        t["spec"]["volumes"] = json!([{"name": "nfs", "nfs": {"server": "s", "path": "/"}}]);
        let s = "spec.template.spec";
        assert_eq!(
            paths(t.clone(), Level::Restricted),
            [
                format!("{s}.volumes[name=nfs].nfs"),
                format!("{s}.containers[name=app].securityContext.runAsUser"),
                format!("{s}.containers[name=app].securityContext.capabilities.add"),
                format!("{s}.containers[name=app].securityContext.runAsNonRoot"),
            ]
        );
        // CHOWN is a baseline capability: baseline finds nothing.
        assert_eq!(paths(t, Level::Baseline), Vec::<String>::new());
    }

    #[test]
    fn seccomp_and_apparmor_unconfined_fail_baseline() {
        let t = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}},
            "spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "app"}]}});
        assert_eq!(
            paths(t, Level::Baseline),
            ["spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]", "spec.template.spec.securityContext.seccompProfile.type"]
        );
        // An empty annotation is the runtime's default profile (allowed).
        let t = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": ""}}, "spec": {"containers": [{"name": "app"}]}});
        assert!(paths(t, Level::Baseline).is_empty());
    }
}
