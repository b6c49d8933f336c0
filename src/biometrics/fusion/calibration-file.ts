// The calibration a model ships with: `models/<model>.calibration.json` beside `<model>.onnx`
// (written by `npm run models:calibrate`). Steps read it to report each score's LLR.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CalibrationError, parseCalibration, scoreLlr, type Calibration } from './calibration.js';

/** The calibration fitted for this model file, or undefined when none was (older models). */
export function calibrationBeside(modelFile: string): Calibration | undefined {
  const file = modelFile.replace(/\.onnx$/, '.calibration.json');
  if (file === modelFile || !existsSync(file)) return undefined;
  const calibration = parseCalibration(JSON.parse(readFileSync(file, 'utf8')), file);
  // A file copied beside the wrong model would give confident nonsense.
  if (calibration.model !== basename(modelFile, '.onnx')) throw new CalibrationError(`${file} calibrates ${calibration.model}, not ${basename(modelFile)}`);
  return calibration;
}

/** The audit field for a score: its LLR (3 decimals) when the model is calibrated and the LLR is finite. */
export function llrField(calibration: Calibration | undefined, score: number): { llr?: number } {
  if (!calibration) return {};
  const llr = scoreLlr(calibration, score);
  return Number.isFinite(llr) ? { llr: Number(llr.toFixed(3)) } : {};
}
