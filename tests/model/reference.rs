//! The reference model: SPEC's rules written out as plainly as possible.
//!
//! Everything is a `Vec` scanned from the start; every check is a separate
//! `if`, in SPEC's order. Error messages are rendered here from SPEC §2's
//! table, not by the crate's `Display`. Where SPEC is silent, the model
//! follows the crate's README ("Differences from bk-cmdb") or its public API
//! docs, and says so. Where neither fixes a detail (which of two errors a
//! request with two defects gets), a result lists every acceptable error.

use assocstore::{Mapping, OnDelete};

/// An expected failure: the bk-cmdb code and the exact English message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub(crate) code: i64,
    pub(crate) message: String,
}

impl Fail {
    fn new(code: i64, message: impl Into<String>) -> Fail {
        Fail {
            code,
            message: message.into(),
        }
    }

    /// 1199003.
    pub(crate) fn invalid_input() -> Fail {
        Fail::new(1_199_003, "invalid input parameter")
    }

    /// 1199006 naming `field`.
    pub(crate) fn invalid(field: &str) -> Fail {
        Fail::new(
            1_199_006,
            format!("'{field}' data parameter verification does not pass"),
        )
    }

    /// 1199010 naming `field`.
    pub(crate) fn unassigned(field: &str) -> Fail {
        Fail::new(1_199_010, format!("'{field}' unassigned"))
    }

    /// 1199011 naming `field`.
    pub(crate) fn not_found(field: &str) -> Fail {
        Fail::new(
            1_199_011,
            format!("'{field}' the parameter is invalid or does not exist"),
        )
    }

    /// 1199014 naming `fields`.
    pub(crate) fn duplicated(fields: &str) -> Fail {
        Fail::new(
            1_199_014,
            format!("duplicated instances exist, fields [{fields}] duplicated"),
        )
    }

    /// 1199035.
    pub(crate) fn exceed_limit(what: &str, limit: usize) -> Fail {
        Fail::new(1_199_035, format!(" {what} exceed the limit {limit}"))
    }

    /// 1199038.
    pub(crate) fn data_null(what: &str) -> Fail {
        Fail::new(1_199_038, format!("need data {what} is null"))
    }

    /// 1199059.
    pub(crate) fn page_limit() -> Fail {
        Fail::new(1_199_059, "page limit is exceeded. suggestion 200")
    }

    /// 1101038.
    pub(crate) fn already_exists(src: &str, dst: &str) -> Fail {
        Fail::new(
            1_101_038,
            format!("the associations {src}->{dst} already exist"),
        )
    }

    /// 1101043.
    pub(crate) fn in_use() -> Fail {
        Fail::new(
            1_101_043,
            "object association has already been instantiated, can not be deleted.",
        )
    }

    /// 1101045.
    pub(crate) fn missing_parameters() -> Fail {
        Fail::new(1_101_045, "object association missing parameters.")
    }

    /// 1101046.
    pub(crate) fn assoc_not_found() -> Fail {
        Fail::new(1_101_046, "object association does not exist.")
    }

    /// 1101052.
    pub(crate) fn one_to_one() -> Fail {
        Fail::new(
            1_101_052,
            "can not create multiple instance association for a 1:1 association.",
        )
    }

    /// 1101061.
    pub(crate) fn one_to_many() -> Fail {
        Fail::new(
            1_101_061,
            "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.",
        )
    }

    /// 1101072.
    pub(crate) fn kind_not_found() -> Fail {
        Fail::new(1_101_072, "the association kind is not exist")
    }

    /// 1101073.
    pub(crate) fn source_missing() -> Fail {
        Fail::new(1_101_073, "the association inst is not exist")
    }

    /// 1101074 (two double spaces, verbatim).
    pub(crate) fn target_missing() -> Fail {
        Fail::new(1_101_074, "the  inst to asst  is not exist")
    }

    /// 1101075.
    pub(crate) fn has_association() -> Fail {
        Fail::new(1_101_075, "the inst has association")
    }

    /// 1101082.
    pub(crate) fn mainline() -> Fail {
        Fail::new(
            1_101_082,
            "bk_mainline association type can't use in this scene",
        )
    }
}

/// What a model call returns: the value, or every error that SPEC allows
/// (one, except where SPEC does not order two defects of one request).
pub(crate) type Out<T> = Result<T, Vec<Fail>>;

/// One failure, the only acceptable one.
pub(crate) fn fail<T>(f: Fail) -> Out<T> {
    Err(vec![f])
}

/// An instance association record (SPEC §1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rec {
    pub(crate) id: i64,
    pub(crate) bk_inst_id: i64,
    pub(crate) bk_obj_id: String,
    pub(crate) bk_asst_inst_id: i64,
    pub(crate) bk_asst_obj_id: String,
    pub(crate) bk_obj_asst_id: String,
    pub(crate) bk_asst_id: String,
}

/// A model association (SPEC §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assoc {
    pub(crate) id: i64,
    pub(crate) bk_obj_asst_id: String,
    pub(crate) bk_obj_asst_name: String,
    pub(crate) bk_obj_id: String,
    pub(crate) bk_asst_obj_id: String,
    pub(crate) bk_asst_id: String,
    pub(crate) mapping: Mapping,
    pub(crate) on_delete: OnDelete,
}

/// A user-defined association kind (the six built-ins are not listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kind {
    pub(crate) id: i64,
    pub(crate) bk_asst_id: String,
    pub(crate) bk_asst_name: String,
}

/// A registered instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inst {
    pub(crate) model: String,
    pub(crate) id: i64,
    pub(crate) name: Option<String>,
}

/// The kinds that exist from the start (SPEC §1).
pub(crate) const BUILTIN_KINDS: [&str; 6] = [
    "belong",
    "group",
    "run",
    "connect",
    "default",
    "bk_mainline",
];

/// One item's outcome in a batch (SPEC §3.3 and the modes beyond it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Created(i64),
    Existing(i64),
    Failed(Fail),
    RolledBack,
}

/// A batch request, as the model reads it.
#[derive(Debug, Clone)]
pub(crate) struct BatchReq {
    pub(crate) bk_obj_id: String,
    pub(crate) bk_asst_obj_id: String,
    pub(crate) bk_obj_asst_id: String,
    pub(crate) details: Vec<(i64, i64)>,
    pub(crate) idempotent: bool,
    pub(crate) atomic: bool,
}

/// The decision for one batch item before anything is inserted.
enum Plan {
    Insert,
    Existing(i64),
    SameAs(usize),
    Failed(Fail),
}

/// What a cascade removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Cascaded {
    pub(crate) instances: Vec<(String, i64)>,
    pub(crate) associations: Vec<Rec>,
}

/// The whole state, in plain vectors.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) batch_limit: usize,
    /// User-defined kinds, in id order (built-ins are 1 to 6).
    pub(crate) kinds: Vec<Kind>,
    /// Live model associations, in id order.
    pub(crate) assocs: Vec<Assoc>,
    pub(crate) last_assoc_id: i64,
    /// Registered instances, in registration order.
    pub(crate) instances: Vec<Inst>,
    /// Per model, the highest instance id ever registered in it.
    pub(crate) max_inst: Vec<(String, i64)>,
    /// Every (model, id) ever registered.
    pub(crate) ever: Vec<(String, i64)>,
    /// Models named by a successful registration, model association or
    /// `define_model`: "known" to the topology and graph reads.
    pub(crate) known_models: Vec<String>,
    /// `define_model` displays.
    pub(crate) displays: Vec<(String, String, String)>,
    /// Live records, in id order.
    pub(crate) records: Vec<Rec>,
    /// The last record id handed out.
    pub(crate) last_id: i64,
}

impl Model {
    pub(crate) fn new(batch_limit: usize) -> Model {
        Model {
            batch_limit,
            kinds: Vec::new(),
            assocs: Vec::new(),
            last_assoc_id: 0,
            instances: Vec::new(),
            max_inst: Vec::new(),
            ever: Vec::new(),
            known_models: Vec::new(),
            displays: Vec::new(),
            records: Vec::new(),
            last_id: 0,
        }
    }

    // -- lookups -------------------------------------------------------------

    pub(crate) fn kind_exists(&self, kind: &str) -> bool {
        BUILTIN_KINDS.contains(&kind) || self.kinds.iter().any(|k| k.bk_asst_id == kind)
    }

    pub(crate) fn assoc(&self, name: &str) -> Option<&Assoc> {
        self.assocs.iter().find(|a| a.bk_obj_asst_id == name)
    }

    /// The ids of the live model associations, in id order.
    pub(crate) fn assoc_names(&self) -> Vec<String> {
        self.assocs
            .iter()
            .map(|a| a.bk_obj_asst_id.clone())
            .collect()
    }

    pub(crate) fn exists(&self, model: &str, id: i64) -> bool {
        self.instances
            .iter()
            .any(|i| i.model == model && i.id == id)
    }

    pub(crate) fn inst_name(&self, model: &str, id: i64) -> Option<String> {
        self.instances
            .iter()
            .find(|i| i.model == model && i.id == id)
            .and_then(|i| i.name.clone())
    }

    pub(crate) fn is_known(&self, model: &str) -> bool {
        self.known_models.iter().any(|m| m == model)
    }

    fn know(&mut self, model: &str) {
        if !self.is_known(model) {
            self.known_models.push(model.to_owned());
        }
    }

    pub(crate) fn record(&self, id: i64) -> Option<&Rec> {
        self.records.iter().find(|r| r.id == id)
    }

    pub(crate) fn record_ids(&self) -> Vec<i64> {
        self.records.iter().map(|r| r.id).collect()
    }

    /// Whether record `r` touches model `model` (its source or target
    /// model, SPEC §1 "Touching a model").
    pub(crate) fn touches(r: &Rec, model: &str) -> bool {
        r.bk_obj_id == model || r.bk_asst_obj_id == model
    }

    /// Whether instance (`model`, `id`) is an endpoint of `r`.
    pub(crate) fn names(r: &Rec, model: &str, id: i64) -> bool {
        (r.bk_obj_id == model && r.bk_inst_id == id)
            || (r.bk_asst_obj_id == model && r.bk_asst_inst_id == id)
    }

    /// The partners of instance (`model`, `id`) in `r`, one per role it
    /// plays (two for a self-link), with whether it is the source there.
    fn partners(r: &Rec, model: &str, id: i64) -> Vec<(bool, String, i64)> {
        let mut out = Vec::new();
        if r.bk_obj_id == model && r.bk_inst_id == id {
            out.push((true, r.bk_asst_obj_id.clone(), r.bk_asst_inst_id));
        }
        if r.bk_asst_obj_id == model && r.bk_asst_inst_id == id {
            out.push((false, r.bk_obj_id.clone(), r.bk_inst_id));
        }
        out
    }

    pub(crate) fn display(&self, model: &str) -> (String, String) {
        self.displays
            .iter()
            .find(|(m, _, _)| m == model)
            .map_or_else(
                || (model.to_owned(), String::new()),
                |(_, n, i)| (n.clone(), i.clone()),
            )
    }

    // -- definitions (SPEC §3.1) ---------------------------------------------

    /// `create_association_kind`. README: an empty id is 1199010.
    pub(crate) fn create_kind(&mut self, bk_asst_id: &str, name: &str) -> Out<i64> {
        if bk_asst_id.is_empty() {
            return fail(Fail::unassigned("bk_asst_id"));
        }
        if self.kind_exists(bk_asst_id) {
            return fail(Fail::duplicated(bk_asst_id));
        }
        let id = 7 + self.kinds.len() as i64;
        self.kinds.push(Kind {
            id,
            bk_asst_id: bk_asst_id.to_owned(),
            bk_asst_name: name.to_owned(),
        });
        Ok(id)
    }

    /// `create_model_association`, checks in SPEC §3.1's order, then the
    /// divergence (unknown kind) after them.
    pub(crate) fn create_assoc(&mut self, new: Assoc) -> Out<i64> {
        if new.bk_asst_id == "bk_mainline" {
            return fail(Fail::mainline());
        }
        if new.bk_asst_id.is_empty() || new.bk_obj_id.is_empty() || new.bk_asst_obj_id.is_empty() {
            return fail(Fail::missing_parameters());
        }
        for a in &self.assocs {
            if a.bk_obj_id == new.bk_obj_id
                && a.bk_asst_obj_id == new.bk_asst_obj_id
                && a.bk_asst_id == new.bk_asst_id
            {
                return fail(Fail::already_exists(&new.bk_obj_id, &new.bk_asst_obj_id));
            }
        }
        if new.bk_obj_asst_id.is_empty() {
            return fail(Fail::unassigned("bk_obj_asst_id"));
        }
        if self.assoc(&new.bk_obj_asst_id).is_some() {
            return fail(Fail::duplicated(&new.bk_obj_asst_id));
        }
        if !self.kind_exists(&new.bk_asst_id) {
            return fail(Fail::kind_not_found());
        }
        self.last_assoc_id += 1;
        let id = self.last_assoc_id;
        self.know(&new.bk_obj_id);
        self.know(&new.bk_asst_obj_id);
        self.assocs.push(Assoc { id, ..new });
        Ok(id)
    }

    /// `delete_model_association`: refused while used; unknown id is fine.
    pub(crate) fn delete_assoc(&mut self, id: i64) -> Out<()> {
        let Some(pos) = self.assocs.iter().position(|a| a.id == id) else {
            return Ok(());
        };
        let name = self.assocs[pos].bk_obj_asst_id.clone();
        if self.records.iter().any(|r| r.bk_obj_asst_id == name) {
            return fail(Fail::in_use());
        }
        self.assocs.remove(pos);
        Ok(())
    }

    /// `define_model`.
    pub(crate) fn define_model(&mut self, model: &str, name: &str, icon: &str) -> Out<()> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        self.know(model);
        self.displays.retain(|(m, _, _)| m != model);
        self.displays
            .push((model.to_owned(), name.to_owned(), icon.to_owned()));
        Ok(())
    }

    fn max_of(&self, model: &str) -> i64 {
        self.max_inst
            .iter()
            .find(|(m, _)| m == model)
            .map_or(0, |(_, v)| *v)
    }

    fn insert_instance(&mut self, model: &str, id: i64, name: Option<&str>) {
        self.instances.push(Inst {
            model: model.to_owned(),
            id,
            name: name.map(str::to_owned),
        });
        let max = self.max_of(model).max(id);
        self.max_inst.retain(|(m, _)| m != model);
        self.max_inst.push((model.to_owned(), max));
        if !self.ever.iter().any(|(m, i)| m == model && *i == id) {
            self.ever.push((model.to_owned(), id));
        }
    }

    /// The ids `register_instance` may allocate when none is given: SPEC's
    /// "max + 1", where max is either the highest id registered now or the
    /// highest ever registered (the crate's docs: "one above the highest id
    /// this model has seen"); SPEC does not say which.
    pub(crate) fn auto_ids(&self, model: &str) -> Vec<i64> {
        let now = self
            .instances
            .iter()
            .filter(|i| i.model == model)
            .map(|i| i.id)
            .max()
            .unwrap_or(0);
        let mut ids = vec![self.max_of(model).max(0) + 1, now.max(0) + 1];
        ids.dedup();
        ids
    }

    /// `register_instance`. README: empty model → 1199010, id ≤ 0 → 1199006;
    /// SPEC: existing → 1199014; omitted id → one above the highest id the
    /// model has ever had (see [`Model::auto_ids`] for the other reading).
    pub(crate) fn register(
        &mut self,
        model: &str,
        id: Option<i64>,
        name: Option<&str>,
    ) -> Out<i64> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        let id = match id {
            Some(id) => {
                if id <= 0 {
                    return fail(Fail::invalid("bk_inst_id"));
                }
                if self.exists(model, id) {
                    return fail(Fail::duplicated("bk_inst_id"));
                }
                id
            }
            None => self.max_of(model).max(0) + 1,
        };
        self.know(model);
        self.insert_instance(model, id, name);
        Ok(id)
    }

    /// `register_instances`: all or none. Which of "an id ≤ 0" and "a
    /// duplicate" wins when both occur is not fixed by SPEC: both accepted.
    pub(crate) fn register_many(&mut self, model: &str, ids: &[i64]) -> Out<usize> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        let mut errors = Vec::new();
        if ids.iter().any(|&id| id <= 0) {
            errors.push(Fail::invalid("bk_inst_id"));
        }
        let mut dup = false;
        for (i, &id) in ids.iter().enumerate() {
            if ids[..i].contains(&id) || self.exists(model, id) {
                dup = true;
            }
        }
        if dup {
            errors.push(Fail::duplicated("bk_inst_id"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.know(model);
        for &id in ids {
            self.insert_instance(model, id, None);
        }
        Ok(ids.len())
    }

    /// `delete_instances` (and `delete_instance` with one id): SPEC §3.5.
    /// Refused while a record links one of them to *another* instance that
    /// still exists (another one of the same call counts); records to
    /// itself (README) or to instances that no longer exist go silently.
    pub(crate) fn delete_instances(&mut self, model: &str, ids: &[i64]) -> Out<usize> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for &id in &ids {
            for r in &self.records {
                for (_, pm, pid) in Model::partners(r, model, id) {
                    let itself = pm == model && pid == id;
                    if !itself && self.exists(&pm, pid) {
                        return fail(Fail::has_association());
                    }
                }
            }
        }
        self.records
            .retain(|r| !ids.iter().any(|&id| Model::names(r, model, id)));
        let before = self.instances.len();
        self.instances
            .retain(|i| !(i.model == model && ids.contains(&i.id)));
        Ok(before - self.instances.len())
    }

    /// `delete_instance_associations_of`: every record naming the instance,
    /// removed, returned in id order.
    pub(crate) fn delete_associations_of(&mut self, model: &str, id: i64) -> Out<Vec<Rec>> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        let removed: Vec<Rec> = self
            .records
            .iter()
            .filter(|r| Model::names(r, model, id))
            .cloned()
            .collect();
        self.records.retain(|r| !Model::names(r, model, id));
        Ok(removed)
    }

    /// `delete_instance_cascade`, as its docs say: from each deleted
    /// instance, in the order reached, follow its records in id order; a
    /// `delete_dest` record deletes the target when the source goes, a
    /// `delete_src` record the source when the target goes. A record to an
    /// existing instance outside the cascade refuses the whole call.
    pub(crate) fn cascade(&mut self, model: &str, id: i64) -> Out<Cascaded> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        if !self.exists(model, id) {
            return Ok(Cascaded::default());
        }
        let mut doomed: Vec<(String, i64)> = vec![(model.to_owned(), id)];
        let mut next = 0;
        while next < doomed.len() {
            let (m, i) = doomed[next].clone();
            next += 1;
            for r in &self.records {
                let Some(a) = self.assoc(&r.bk_obj_asst_id) else {
                    continue;
                };
                for (as_source, pm, pid) in Model::partners(r, &m, i) {
                    let follow = match a.on_delete {
                        OnDelete::DeleteDest => as_source,
                        OnDelete::DeleteSrc => !as_source,
                        OnDelete::None => false,
                    };
                    let known = doomed.iter().any(|(dm, di)| *dm == pm && *di == pid);
                    if follow && !known && self.exists(&pm, pid) {
                        doomed.push((pm, pid));
                    }
                }
            }
        }
        for (m, i) in &doomed {
            for r in &self.records {
                for (_, pm, pid) in Model::partners(r, m, *i) {
                    let inside = doomed.iter().any(|(dm, di)| *dm == pm && *di == pid);
                    if !inside && self.exists(&pm, pid) {
                        return fail(Fail::has_association());
                    }
                }
            }
        }
        let gone = |r: &Rec| doomed.iter().any(|(m, i)| Model::names(r, m, *i));
        let associations: Vec<Rec> = self.records.iter().filter(|r| gone(r)).cloned().collect();
        self.records.retain(|r| !gone(r));
        self.instances.retain(|inst| {
            !doomed
                .iter()
                .any(|(m, i)| inst.model == *m && inst.id == *i)
        });
        Ok(Cascaded {
            instances: doomed,
            associations,
        })
    }

    // -- creates (SPEC §3.2, §3.3) -------------------------------------------

    /// The mapping check of SPEC §1 / §3.2 step 3 against `records`.
    fn mapping_check(records: &[Rec], a: &Assoc, src: i64, dst: i64) -> Result<(), Fail> {
        let mine = || {
            records
                .iter()
                .filter(|r| r.bk_obj_asst_id == a.bk_obj_asst_id)
        };
        match a.mapping {
            Mapping::OneToOne => {
                if mine().any(|r| r.bk_inst_id == src) || mine().any(|r| r.bk_asst_inst_id == dst) {
                    return Err(Fail::one_to_one());
                }
            }
            Mapping::OneToMany => {
                if mine().any(|r| r.bk_asst_inst_id == dst) {
                    return Err(Fail::one_to_many());
                }
            }
            Mapping::ManyToMany => {}
        }
        Ok(())
    }

    fn triple(records: &[Rec], name: &str, src: i64, dst: i64) -> Option<i64> {
        records
            .iter()
            .find(|r| r.bk_obj_asst_id == name && r.bk_inst_id == src && r.bk_asst_inst_id == dst)
            .map(|r| r.id)
    }

    fn make(a: &Assoc, id: i64, src: i64, dst: i64) -> Rec {
        Rec {
            id,
            bk_inst_id: src,
            bk_obj_id: a.bk_obj_id.clone(),
            bk_asst_inst_id: dst,
            bk_asst_obj_id: a.bk_asst_obj_id.clone(),
            bk_obj_asst_id: a.bk_obj_asst_id.clone(),
            bk_asst_id: a.bk_asst_id.clone(),
        }
    }

    /// SPEC §3.2's checks 1 to 6, first failure wins.
    pub(crate) fn check_create(&self, name: &str, src: i64, dst: i64) -> Result<Assoc, Fail> {
        let Some(a) = self.assoc(name) else {
            return Err(Fail::assoc_not_found());
        };
        if a.bk_asst_id == "bk_mainline" {
            return Err(Fail::mainline());
        }
        Model::mapping_check(&self.records, a, src, dst)?;
        if Model::triple(&self.records, name, src, dst).is_some() {
            return Err(Fail::duplicated("association"));
        }
        if !self.exists(&a.bk_obj_id, src) {
            return Err(Fail::source_missing());
        }
        if !self.exists(&a.bk_asst_obj_id, dst) {
            return Err(Fail::target_missing());
        }
        Ok(a.clone())
    }

    /// `create_instance_association`: the next id (README: failed creates
    /// take none, so ids have no gaps).
    pub(crate) fn create(&mut self, name: &str, src: i64, dst: i64) -> Out<i64> {
        let a = self.check_create(name, src, dst).map_err(|f| vec![f])?;
        self.last_id += 1;
        self.records.push(Model::make(&a, self.last_id, src, dst));
        Ok(self.last_id)
    }

    /// A create with a given id above every id so far (replaying a
    /// concurrent run's surviving records in id order).
    pub(crate) fn create_with_id(
        &mut self,
        name: &str,
        src: i64,
        dst: i64,
        id: i64,
    ) -> Result<(), Fail> {
        let a = self.check_create(name, src, dst)?;
        assert!(id > self.last_id, "replayed ids ascend");
        self.last_id = id;
        self.records.push(Model::make(&a, id, src, dst));
        Ok(())
    }

    /// `batch_create_instance_associations`: SPEC §3.3's whole-request
    /// checks in order, then each item in `details` order against the store
    /// plus the items planned before it; idempotent and atomic as the
    /// README describes them.
    pub(crate) fn batch(&mut self, req: &BatchReq) -> Out<Vec<Item>> {
        if req.bk_obj_asst_id.is_empty() {
            return fail(Fail::not_found("bk_obj_asst_id"));
        }
        if req.bk_obj_id.is_empty() {
            return fail(Fail::not_found("bk_obj_id"));
        }
        if req.bk_asst_obj_id.is_empty() {
            return fail(Fail::not_found("bk_asst_obj_id"));
        }
        if req.details.is_empty() {
            return fail(Fail::data_null("details"));
        }
        if req.details.len() > self.batch_limit {
            return fail(Fail::exceed_limit("details", self.batch_limit));
        }
        if !req.bk_obj_asst_id.starts_with(&req.bk_obj_id) {
            return fail(Fail::invalid("bk_obj_id"));
        }
        if !req.bk_obj_asst_id.ends_with(&req.bk_asst_obj_id) {
            return fail(Fail::invalid("bk_asst_obj_id"));
        }
        let Some(a) = self.assoc(&req.bk_obj_asst_id).cloned() else {
            return fail(Fail::assoc_not_found());
        };
        if a.bk_asst_id == "bk_mainline" {
            return fail(Fail::mainline());
        }
        if a.bk_obj_id != req.bk_obj_id {
            return fail(Fail::invalid("bk_obj_id"));
        }
        if a.bk_asst_obj_id != req.bk_asst_obj_id {
            return fail(Fail::invalid("bk_asst_obj_id"));
        }

        // Plan: `planned` are the records the batch would insert so far,
        // with placeholder ids (their index in `details`, negated).
        let mut planned: Vec<Rec> = Vec::new();
        let mut plans: Vec<Plan> = Vec::new();
        for (i, &(src, dst)) in req.details.iter().enumerate() {
            let repeat = Fail::already_exists(&req.bk_obj_id, &req.bk_asst_obj_id);
            let plan = if let Some(id) = Model::triple(&self.records, &a.bk_obj_asst_id, src, dst) {
                if req.idempotent {
                    Plan::Existing(id)
                } else {
                    Plan::Failed(repeat)
                }
            } else if let Some(j) = Model::triple(&planned, &a.bk_obj_asst_id, src, dst) {
                if req.idempotent {
                    Plan::SameAs(usize::try_from(-j).unwrap_or(0))
                } else {
                    Plan::Failed(repeat)
                }
            } else if !self.exists(&a.bk_obj_id, src) {
                Plan::Failed(Fail::source_missing())
            } else if !self.exists(&a.bk_asst_obj_id, dst) {
                Plan::Failed(Fail::target_missing())
            } else {
                let mut seen = self.records.clone();
                seen.extend(planned.iter().cloned());
                if let Err(f) = Model::mapping_check(&seen, &a, src, dst) {
                    Plan::Failed(f)
                } else {
                    planned.push(Model::make(&a, -(i as i64), src, dst));
                    Plan::Insert
                }
            };
            plans.push(plan);
        }
        let any_failed = plans.iter().any(|p| matches!(p, Plan::Failed(_)));
        let commit = !(req.atomic && any_failed);
        let mut items: Vec<Item> = Vec::new();
        for (plan, &(src, dst)) in plans.into_iter().zip(&req.details) {
            let item = match plan {
                Plan::Insert if commit => {
                    self.last_id += 1;
                    self.records.push(Model::make(&a, self.last_id, src, dst));
                    Item::Created(self.last_id)
                }
                Plan::Insert => Item::RolledBack,
                Plan::Existing(id) => Item::Existing(id),
                Plan::SameAs(j) => match items[j] {
                    Item::Created(id) => Item::Existing(id),
                    _ => Item::RolledBack,
                },
                Plan::Failed(f) => Item::Failed(f),
            };
            items.push(item);
        }
        Ok(items)
    }

    // -- deletes by id (SPEC §3.5) -------------------------------------------

    /// `delete_instance_association`: whether a record went.
    pub(crate) fn delete_by_id(&mut self, model: &str, id: i64) -> Out<bool> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        let before = self.records.len();
        self.records
            .retain(|r| !(r.id == id && Model::touches(r, model)));
        Ok(self.records.len() < before)
    }

    /// `delete_instance_associations`: checks in the order of the crate's
    /// docs (SPEC lists them without an order), then the number deleted.
    pub(crate) fn delete_by_ids(&mut self, model: &str, ids: &[i64]) -> Out<usize> {
        if ids.is_empty() {
            return fail(Fail::invalid_input());
        }
        if ids.len() > 500 {
            return fail(Fail::page_limit());
        }
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        let before = self.records.len();
        self.records
            .retain(|r| !(ids.contains(&r.id) && Model::touches(r, model)));
        Ok(before - self.records.len())
    }
}
