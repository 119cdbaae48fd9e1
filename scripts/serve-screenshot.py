"""Take docs/figures/serve.png: the serve page in headless Chromium, after real work.

Starts the page with the bundled model on 127.0.0.1, uploads the demo's 32 kbps MP3 of the
bundled excerpt (the paper's recipe) and a file that is not audio, plays a few seconds, switches
to the input (A) and saves the window. Needs Debian's chromium and chromium-driver.
Usage: python scripts/serve-screenshot.py [--out docs/figures/serve.png]
"""

import argparse
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from spectral_enhance.audio import read_audio
from spectral_enhance.audio.mp3 import encode_mp3
from spectral_enhance.dataset.recipe import DegradationRecipe, transcode
from spectral_enhance.demo import EXCERPT
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.serve.app import create_app, running


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures/serve.png"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    recipe = DegradationRecipe()
    samples, rate = read_audio(EXCERPT)
    mp3 = folder / "casualties of war (32 kbps).mp3"
    reference = transcode(samples[:, 0], rate, recipe.high_bitrate)
    mp3.write_bytes(encode_mp3(reference, rate, recipe.low_bitrate))
    notes = folder / "notes.mp3"
    notes.write_text("shopping list: bread, milk\n" * 20)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--window-size=1500,1040",
        "--autoplay-policy=no-user-gesture-required",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        with running(create_app(Enhancer.load())) as url:
            driver.get(url)
            driver.find_element(By.ID, "files").send_keys(f"{notes}\n{mp3}")
            player = "[...spectralEnhance.players.values()][0]"
            deadline = time.monotonic() + 60
            while not driver.execute_script(f"return ({player} || {{}}).figures?.length"):
                if time.monotonic() > deadline:
                    raise SystemExit("the page did not show a result in 60 s")
                time.sleep(0.2)
            driver.execute_script(f"{player}.seek(4.2); {player}.play()")
            time.sleep(1.0)
            driver.find_element(By.TAG_NAME, "body").send_keys("t")  # to the input, A
            time.sleep(0.3)
            driver.execute_script(f"{player}.pause()")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
    finally:
        driver.quit()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
