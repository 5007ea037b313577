//! The byte encoding shared by journal records and snapshots: LEB128
//! varints (signed ones zigzag-mapped), length-prefixed strings, and a
//! reader that names the byte offset where decoding failed.

/// Appends bytes to a buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    /// A presence flag, then the string if present.
    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        self.bool(s.is_some());
        if let Some(s) = s {
            self.str(s);
        }
    }
}

/// Why decoding stopped, and where (relative to the reader's base).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub(crate) offset: u64,
    pub(crate) what: String,
}

/// Reads what a [`Writer`] wrote, never past the end.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes[0]` in its file, for error messages.
    base: u64,
}

pub(crate) type Decoded<T> = Result<T, DecodeError>;

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], base: u64) -> Reader<'a> {
        Reader {
            bytes,
            pos: 0,
            base,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub(crate) fn fail<T>(&self, what: impl Into<String>) -> Decoded<T> {
        Err(DecodeError {
            offset: self.base + self.pos as u64,
            what: what.into(),
        })
    }

    pub(crate) fn u8(&mut self) -> Decoded<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail("unexpected end of data"),
        }
    }

    pub(crate) fn u64(&mut self) -> Decoded<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return self.fail("varint overflows 64 bits");
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        self.fail("varint longer than 10 bytes")
    }

    pub(crate) fn i64(&mut self) -> Decoded<i64> {
        let v = self.u64()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A count of items that each take at least `min_bytes`, refused when
    /// the rest of the data could not hold them (so a damaged count never
    /// makes a huge allocation).
    pub(crate) fn count(&mut self, min_bytes: usize) -> Decoded<usize> {
        let n = self.u64()?;
        let left = (self.bytes.len() - self.pos) as u64;
        if n.saturating_mul(min_bytes.max(1) as u64) > left {
            return self.fail(format!("count {n} exceeds the data left"));
        }
        Ok(n as usize)
    }

    pub(crate) fn str(&mut self) -> Decoded<String> {
        let len = self.count(1)?;
        let bytes = &self.bytes[self.pos..self.pos + len];
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                self.pos += len;
                Ok(s.to_owned())
            }
            Err(_) => self.fail("string is not UTF-8"),
        }
    }

    pub(crate) fn bool(&mut self) -> Decoded<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => self.fail("bad boolean"),
        }
    }

    /// What [`Writer::opt_str`] wrote.
    pub(crate) fn opt_str(&mut self) -> Decoded<Option<String>> {
        if self.bool()? {
            self.str().map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Reader, Writer};

    #[test]
    fn varints_round_trip_at_the_edges() {
        let values = [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1 << 35];
        let mut w = Writer::default();
        for v in values {
            w.i64(v);
        }
        w.u64(u64::MAX);
        w.str("bk_switch");
        let mut r = Reader::new(&w.buf, 0);
        for v in values {
            assert_eq!(r.i64(), Ok(v));
        }
        assert_eq!(r.u64(), Ok(u64::MAX));
        assert_eq!(r.str().as_deref(), Ok("bk_switch"));
        assert!(r.is_empty());
        assert_eq!(r.u8().unwrap_err().offset, w.buf.len() as u64);
    }

    #[test]
    fn overlong_and_oversized_inputs_are_errors() {
        let mut r = Reader::new(&[0xff; 11], 100);
        assert!(r.u64().is_err());
        let mut w = Writer::default();
        w.u64(1 << 40);
        let mut r = Reader::new(&w.buf, 0);
        assert!(r.count(8).is_err());
    }
}
