package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// perLine reads a format with one product a line (JSONL, Bench): parse
// turns each non-blank line into a record.
func perLine(br *bufio.Reader, maxLine int, parse func(line int, text []byte) Record) func() (Record, error) {
	lr := &lineReader{br: br, max: maxLine}
	return func() (Record, error) {
		text, line, lerr, err := lr.next()
		if err != nil {
			return Record{}, err
		}
		if lerr != nil {
			return Record{Line: line, Err: lerr}, nil
		}
		return parse(line, text), nil
	}
}

// lineReader yields the non-blank lines of a file with their numbers,
// holding at most one line in memory.
type lineReader struct {
	br   *bufio.Reader
	max  int
	line int
	buf  []byte
}

// next returns the next non-blank line (without its line break) and its
// number. A line longer than max comes back as a LineError; the reader
// has skipped it. At the end it returns io.EOF.
func (lr *lineReader) next() ([]byte, int, *LineError, error) {
	for {
		text, tooLong, err := lr.read()
		if err != nil {
			return nil, 0, nil, err
		}
		lr.line++
		if tooLong {
			return nil, lr.line, lineError(lr.line, "", "longer than %d bytes; split the product or shorten its text", lr.max), nil
		}
		if len(bytes.TrimSpace(text)) > 0 {
			return text, lr.line, nil, nil
		}
	}
}

// read returns one line; the slice is valid until the next call. tooLong
// says the line exceeded max and was skipped to its end.
func (lr *lineReader) read() (text []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // +2: the line break
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimRight(lr.buf, "\r\n"), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 && !tooLong && len(chunk) == 0 {
				return nil, false, io.EOF
			}
			return bytes.TrimRight(lr.buf, "\r\n"), tooLong, nil
		default:
			return nil, false, fmt.Errorf("read catalog line %d: %w", lr.line+1, err)
		}
	}
}
